# OpenCV Telea fill: nothing to train; the preset only decides the data sizes.
model = dict(type="OpenCVInpaintor", algorithm="telea", radius=3.0)
