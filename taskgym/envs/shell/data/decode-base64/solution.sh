base64 -d payload.b64 > payload.bin
