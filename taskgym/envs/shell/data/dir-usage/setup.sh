mkdir -p data/audio data/video/raw data/text
head -c 1000 /dev/zero > data/audio/a.wav; head -c 200 /dev/zero > data/audio/b.wav
head -c 2500 /dev/zero > data/video/raw/v.mp4; head -c 500 /dev/zero > data/video/c.mp4
printf '0123456789' > data/text/t.txt
