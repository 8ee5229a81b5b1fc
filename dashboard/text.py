"""Text from users, files and the URL, made safe for Streamlit elements that render Markdown.

``st.caption``, ``st.markdown``, ``st.warning``/``st.info``/``st.error``/``st.success``, widget
labels and ``help=`` all render Markdown: a ``[link](http://…)`` becomes clickable and an
``![image](http://…)`` makes the browser fetch it. Everything that did not come from this code
goes through :func:`md_escape` before it reaches one of them (or is shown with ``st.text`` /
``st.dataframe``, which never render Markdown). No Streamlit import: unit-tested without a browser.
"""

from __future__ import annotations

import re
import string

#: Every ASCII punctuation character can be backslash-escaped in CommonMark, and an escaped one is
#: always shown literally: links, images, emphasis, code, HTML, tables, Streamlit's ``:color[…]``
#: directives and ``$…$`` maths all need one of these characters to start.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
#: Control characters (tabs and line breaks included) would start new Markdown blocks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: GitHub-flavoured Markdown (which Streamlit uses) turns bare ``http://…``, ``www.…`` and e-mail
#: addresses into links *after* escapes are resolved, so escaping cannot stop it: an invisible
#: WORD JOINER after ``:`` in ``://``, after ``www`` and after ``@`` breaks the pattern instead.
_AUTOLINK = re.compile(r"(:(?=//)|(?i:www)(?=\.)|@)")
WORD_JOINER = "\u2060"


def md_escape(value: object) -> str:
    """``value`` as text that Markdown shows literally, on one line.

    Args:
        value: anything; ``None`` becomes ``""``.
    Returns:
        The text with every ASCII punctuation character backslash-escaped, control characters
        (line breaks included) replaced by one space, and an invisible :data:`WORD_JOINER` where
        a bare URL or e-mail address would otherwise become a link.
    """
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    # Joiners first (the pattern sees the plain text), then escapes (the joiner is not punctuation).
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, text))
