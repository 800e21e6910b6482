mkdir scripts
printf '#!/bin/sh\necho build\n' > scripts/build.sh
printf '#!/bin/sh\necho deploy\n' > scripts/deploy.sh
echo 'how to run' > scripts/README
echo 'hunter2' > secrets.txt
chmod 644 scripts/* secrets.txt
