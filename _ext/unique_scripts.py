"""Sphinx extension: include each inline script of a page only once.

Extensions that add an inline script (``app.add_js_file(None, body=...)``)
after the HTML builder has started, as sphinx-thebe and sphinx-togglebutton
do, get it twice in every page under Sphinx 7.4: once with the file name
``None`` and once with ``""``.  A duplicated ``const`` declaration is a
JavaScript error (``Identifier 'THEBE_JS_URL' has already been declared``).
This extension drops the second copy before the page is written.
"""


def _key(script):
    attributes = tuple(sorted(script.attributes.items()))
    return (script.filename or "", script.priority, attributes)


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    # Late priority: run after the other extensions have added their scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
