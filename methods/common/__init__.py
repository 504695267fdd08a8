"""Building blocks shared by two or more methods."""
from .inpaintor import (BaseInpaintor, GANInpaintor, InpaintDataPreprocessor, SemanticGANInpaintor, composite,
                        masked_input)
from .optim import MultiOptimWrapperConstructor

__all__ = ["BaseInpaintor", "GANInpaintor", "SemanticGANInpaintor", "InpaintDataPreprocessor", "MultiOptimWrapperConstructor",
           "composite", "masked_input"]
