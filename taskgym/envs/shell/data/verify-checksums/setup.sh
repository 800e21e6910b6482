mkdir downloads && cd downloads
for f in a b c d; do printf "content of $f" > $f.bin; done
sha256sum a.bin b.bin c.bin d.bin > SHA256SUMS
printf 'tampered' > b.bin
printf 'x' >> d.bin
