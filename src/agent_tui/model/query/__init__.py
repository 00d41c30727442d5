"""The filter language: lexer, Pratt parser, typed AST, compiled predicate."""
