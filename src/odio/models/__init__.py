"""What a saved model is made of at inference time.

- :mod:`.member`: the interface every fold model speaks (``predict_proba``, ``save``,
  ``load``);
- :mod:`.tfidf`, :mod:`.encoder`, :mod:`.onnx`: the members (scikit-learn, PyTorch +
  transformers, ONNX Runtime), and :mod:`.export` from PyTorch to ONNX;
- :mod:`.blend`: fold members averaged behind one normalisation; :mod:`.stack`: a
  meta-model over blends;
- :mod:`.modeldir`, :mod:`.card`: the self-describing model directory and its card.

Nothing here trains a model or imports Lightning: see :mod:`odio.training`.
"""
