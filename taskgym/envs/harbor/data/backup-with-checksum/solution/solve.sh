#!/bin/bash
set -e
mkdir -p /backup
tar -C /app --exclude='*.tmp' -czf /backup/data.tar.gz data
cd /backup && sha256sum data.tar.gz > data.tar.gz.sha256
