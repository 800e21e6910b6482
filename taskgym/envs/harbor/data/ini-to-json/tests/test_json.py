import json

EXPECTED = {
    "server": {"host": "0.0.0.0", "port": 8080, "debug": False, "workers": 4},
    "database": {
        "url": "postgres://db.internal:5432/app",
        "pool_size": 10,
        "timeout": "2.5",
        "read_only": True,
    },
    "features": {"beta": True, "banner": "Welcome back!", "retries": -3},
}


def test_converted():
    data = json.load(open("/app/service.json"))
    assert data == EXPECTED
    # bool is a kind of int in Python: check the types too
    assert type(data["server"]["port"]) is int and type(data["server"]["debug"]) is bool
    assert type(data["features"]["retries"]) is int
