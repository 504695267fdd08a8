_base_ = ["meanfill_paper.py"]
