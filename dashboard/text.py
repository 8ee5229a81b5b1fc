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


def md_escape(value: object) -> str:
    """``value`` as text that Markdown shows literally, on one line.

    Args:
        value: anything; ``None`` becomes ``""``.
    Returns:
        The text with every ASCII punctuation character backslash-escaped and control
        characters (line breaks included) replaced by one space.
    """
    text = "" if value is None else str(value)
    return _PUNCTUATION.sub(r"\\\1", _CONTROL.sub(" ", text))
