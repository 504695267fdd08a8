_base_ = ["telea_paper.py"]
model = dict(algorithm="ns")
