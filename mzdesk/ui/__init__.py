"""The Qt GUI.  Widgets call services in mzdesk.models; they hold no SQL."""
