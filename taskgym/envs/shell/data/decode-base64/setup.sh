python3 -c 'import base64; open("payload.b64", "w").write(base64.encodebytes(bytes(range(256)) * 3).decode())'
