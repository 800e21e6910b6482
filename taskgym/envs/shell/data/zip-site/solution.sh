zip -qr site.zip site -x '*.log'
