"""Working calendars: China's day kinds (holidays, 调休 make-up working days) and weekly hours."""
