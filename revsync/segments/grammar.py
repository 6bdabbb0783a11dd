"""The lark grammar (LALR, contextual lexer) and the one parser built from it.

A single `WORD` terminal covers attribute names, numbers and bare words; the parser
module decides which a word is, so `past-due`, `saas.yearly`, `3d` and `-4.5` all lex
the same way and get precise errors. Keywords take priority over words only when
they stand alone (`notes` is a word); they are reserved everywhere (`tag = not` is an
error: quote "not" to mean the word), so a misplaced AND is reported as such rather than
read as an attribute called AND. `OPERATOR` takes any
run of `= ! < >` so that `=>` is reported as an unknown operator, not as two tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from lark import Lark, Token

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr -> negation
         | atom
?atom: comparison
     | LPAR or_expr RPAR -> group
comparison: WORD OPERATOR value
?value: WORD | STRING

NOT.3: /not(?![A-Za-z0-9_.\-])/i
AND.3: /and(?![A-Za-z0-9_.\-])/i
OR.3: /or(?![A-Za-z0-9_.\-])/i
WORD: /[A-Za-z0-9_\-][A-Za-z0-9_.\-]*/
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s
OPERATOR: /[=!<>]+/
LPAR: "("
RPAR: ")"

%ignore /\s+/
"""


class _ReservedKeywords:
    """A no-op post-lexer whose only job is to make every lexer state see the keywords."""

    always_accept = ("AND", "OR", "NOT")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return stream


@cache
def parser() -> Lark:
    """Built once per process (a few milliseconds); LALR parsing is linear and iterative."""
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False,
                postlex=_ReservedKeywords())
