"""The email channel's pure parts: raw mail bytes in, plain values out, no I/O.

`parse.parse_mail(raw)` reads any mail into a `ParsedMail` (never raising: a mail it cannot
read carries `problem`, for the quarantine); `charsets` decodes the charsets and mislabels that
real senders use; `html_text` sanitises HTML mail and turns it into text; `noise.classify`
tells auto-replies, bounces, lists and spam from mail a person wrote.
"""
