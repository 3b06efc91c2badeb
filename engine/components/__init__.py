"""Hamroh's custom Rasa components (imported by the engine only, never by the app).

They are thin adapters: the logic lives in the dependency-free modules `bot.nlp` and
`bot.safety`, which the app's unit tests exercise without TensorFlow.
"""
