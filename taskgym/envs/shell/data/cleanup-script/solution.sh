printf '#!/bin/bash\nfind "$1" -type f -name "*.tmp" -delete\n' > cleanup.sh && chmod +x cleanup.sh
