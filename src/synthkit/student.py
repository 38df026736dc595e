"""The student's original import path: the TF-IDF student (the default of synthkit.students.train_student)."""

from synthkit.students import predict_with_confidence, train_student

__all__ = ["predict_with_confidence", "train_student"]
