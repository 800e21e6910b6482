mkdir camera
for n in IMG_20230514_001 IMG_20230530_002 IMG_20240102_003; do echo $n > camera/$n.jpg; done
