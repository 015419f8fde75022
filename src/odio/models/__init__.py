"""What a saved model is made of at inference time.

- :mod:`.protocols`: the interface every fold member speaks (``predict_proba``, ``save``,
  ``load``);
- :mod:`.tfidf`, :mod:`.encoder`, :mod:`.onnx`: the members (scikit-learn, PyTorch +
  transformers, ONNX Runtime); :mod:`.heads` the PyTorch networks, :mod:`.hub` loading
  Hugging Face models; :mod:`.export` from PyTorch to ONNX, :mod:`.quantize` to int8;
- :mod:`.blend`: fold members averaged behind one normalisation; :mod:`.stack`: a
  meta-model over blends;
- :mod:`.modeldir`, :mod:`.modelconfig`, :mod:`.card`: the self-describing model
  directory, its checked ``config.json`` and its card.

Nothing here trains a model or imports Lightning: see :mod:`odio.training`. Scoring imports
only what its members need: scikit-learn for TF-IDF, torch and transformers for PyTorch
members, onnxruntime and tokenizers for ONNX ones.
"""
