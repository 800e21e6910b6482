cd downloads && sha256sum -c SHA256SUMS 2>/dev/null | grep -v ': OK$' | cut -d: -f1 | sort > ../bad.txt; cd ..
