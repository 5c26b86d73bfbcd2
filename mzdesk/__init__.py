"""mzdesk (民政桌面): offline desktop records for township civil-affairs offices."""

__version__ = "0.1.0"
