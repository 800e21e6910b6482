"""taskgym's envs over OpenEnv's protocol, and remote envs as gymnasium envs.

- :mod:`.server` (``taskgym serve``): an OpenEnv server on ``openenv-core``'s own
  (``HTTPEnvServer``), one env and sandbox a WebSocket session;
- :mod:`.environment`: one session, a taskgym env behind OpenEnv's ``Environment``;
- :mod:`.models`: the action, observation and state on the wire;
- :mod:`.remote`: ``taskgym/Remote-v0``, a gymnasium env that plays a server through
  OpenEnv's client, and the ``remote`` executor that spreads episodes over servers.

Everything here needs the ``openenv`` extra (``pip install "taskgym[openenv]"``).
"""
