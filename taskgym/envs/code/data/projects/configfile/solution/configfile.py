class ParseError(ValueError):
    pass


def parse(text):
    sections = {}
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if not name:
                raise ParseError(f"line {number}: empty section name")
            current = sections.setdefault(name, {})
        elif "=" in line:
            if current is None:
                raise ParseError(f"line {number}: key outside any section")
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
        else:
            raise ParseError(f"line {number}: not a section or a key")
    return sections
