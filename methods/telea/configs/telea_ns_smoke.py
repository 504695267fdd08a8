_base_ = ["telea_ns_paper.py"]
