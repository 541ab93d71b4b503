"""Runs that train *and* evaluate, above both training and inference: the random-vs-
pretrained comparison of Kazimi et al. 2024 (:mod:`~dosewise.experiments.compare`), the
dose-limit study of Larsen et al. 2023 (:mod:`~dosewise.experiments.dose_study`) and the
end-to-end demo (:mod:`~dosewise.experiments.demo`)."""
