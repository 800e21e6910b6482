#!/bin/bash
set -e
groupadd devs
useradd --create-home --groups devs alice
useradd --create-home --groups devs bob
mkdir -p /srv/shared
chown root:devs /srv/shared
chmod 2770 /srv/shared
echo 'shared space for devs' > /srv/shared/README
chown alice:devs /srv/shared/README
chmod 0640 /srv/shared/README
