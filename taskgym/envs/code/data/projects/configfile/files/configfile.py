class ParseError(ValueError):
    pass


def parse(text):
    raise NotImplementedError
