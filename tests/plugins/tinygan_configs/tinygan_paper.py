_base_ = ["tinygan_smoke.py"]
