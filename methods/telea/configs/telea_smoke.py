_base_ = ["telea_paper.py"]
