"""Documents people take away: PDF (WeasyPrint, from an HTML template) and Markdown downloads."""
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.text import slugify


def render_pdf(template_name: str, context: dict) -> bytes:
    # Imported here: WeasyPrint loads Pango on import, which only downloads need.
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    return HTML(string=html).write_pdf()


def download(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    """An attachment; the name is slugified so no header injection comes through a title."""
    stem, _, ext = filename.rpartition(".")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{slugify(stem) or "codev"}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    return response


def pdf_download(template_name: str, context: dict, filename: str) -> HttpResponse:
    return download(render_pdf(template_name, context), filename, "application/pdf")


def markdown_download(text: str, filename: str) -> HttpResponse:
    return download(text, filename, "text/markdown; charset=utf-8")
