def unique_emails(emails):
    seen = set()
    for e in emails:
        local, domain = e.split("@")
        local = local.split("+")[0].replace(".", "")
        seen.add(local + "@" + domain.lower())
    return len(seen)
