"""PDF (reportlab) and xlsx (openpyxl) writers.  No Qt here."""
