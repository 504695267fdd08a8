"""Building blocks shared by two or more methods."""
from .inpaintor import BaseInpaintor, GANInpaintor, InpaintDataPreprocessor, composite, masked_input
from .optim import MultiOptimWrapperConstructor

__all__ = ["BaseInpaintor", "GANInpaintor", "InpaintDataPreprocessor", "MultiOptimWrapperConstructor",
           "composite", "masked_input"]
