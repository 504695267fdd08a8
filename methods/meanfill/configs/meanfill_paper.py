# Mean-colour fill: nothing to train; the preset only decides the data sizes.
model = dict(type="MeanFillInpaintor")
