"""签到身份: a subject's enrolled face (taken at the office) and phone-page login."""
