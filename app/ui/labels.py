"""Interface labels for domain values, through the message catalog: they live in
app.domain.words, so that the printed case record (app.exports.case_record_pdf) words
the timeline exactly as the window does."""

from app.domain.words import *  # noqa: F403
