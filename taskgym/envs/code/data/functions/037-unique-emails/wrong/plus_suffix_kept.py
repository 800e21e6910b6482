def unique_emails(emails):
    seen = set()
    for e in emails:
        local, domain = e.split("@")
        seen.add(local.replace(".", "") + "@" + domain.lower())
    return len(seen)
