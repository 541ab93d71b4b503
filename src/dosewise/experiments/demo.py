"""``dosewise demo``: from the forward model to pretrained segmentation, on one page.

Simulates a few Au/CeO2 structures and one dose series, fits the detector MTF
back from simulated vacuum frames, trains and applies a segmentation network,
then compares fine-tuning from random and from self-supervised pretrained
weights, and denoises the dose series with the shipped model; writes ``report.html``. Must stay under 10 minutes on a 2-core CPU.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console

from dosewise.config import DoseSeriesConfig, HrtemDatasetConfig
from dosewise.infer import segment
from dosewise.metrics import dice, relative_psnr_db
from dosewise.io import DatasetStore
from dosewise.physics import MTF_PRESETS, MTFParams, detector_image
from dosewise.physics.mtf_series import fit_mtf_series
from dosewise.report import HtmlReport
from dosewise.report.figures import montage, mtf_fit_figure, readout_fit_figure
from dosewise.simulate import simulate_dose_series, simulate_hrtem_dataset
from dosewise.config import TrainConfig
from dosewise.checkpoint import load_model
from dosewise.training import train
from dosewise.config import CompareConfig
from dosewise.experiments.compare import run_compare

MONTAGE_DOSES_E_PER_A2 = (10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class DemoSettings:
    """How big the demo runs; ``FULL`` is `dosewise demo`, ``QUICK`` a first look (and the tests)."""

    size_px: int = 256
    pixel_size_A: float = 0.25
    train_structures: int = 12
    variants_per_structure: int = 4
    held_out_structures: int = 3
    train_minutes: float = 2.0
    pretrain_minutes: float = 1.5
    finetune_images: int = 16
    finetune_epochs: int = 8
    crop_px: int = 128
    model: str = "hrnet"
    workers: int = 2


FULL = DemoSettings()
QUICK = DemoSettings(size_px=96, train_structures=3, variants_per_structure=2, held_out_structures=1,
                     train_minutes=0.15, crop_px=64, workers=1,
                     pretrain_minutes=0.1, finetune_images=4, finetune_epochs=2)
SEGMENT_DOSE_RANGE_E_PER_A2 = (1e3, 1e5)


def run_demo(out: Path, *, seed: int = 0, settings: DemoSettings = FULL, console: Console | None = None) -> Path:
    """Run every demo step into ``out`` and return the path of the HTML report."""
    console = console or Console(stderr=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = HtmlReport("dosewise demo: low-dose HRTEM, from simulation to segmentation")
    report.text(
        "Au nanoparticles on CeO2 (111), [110] zone axis, simulated with abTEM multislice; microscope "
        "parameters drawn from Larsen et al. 2023, Table 1; detector noise "
        "MTF[Poisson(N_D·I)] + Poisson(N0) (Larsen et al. 2023, eq. 3); an HRNet trained on the "
        "simulated images segments held-out ones. "
        "Everything below is recomputed by `dosewise demo`."
    )
    timings: list[list[object]] = []
    simulation = dict(size_px=settings.size_px, pixel_size_A=settings.pixel_size_A, mtf="mtf4")

    console.print("[bold]1/6[/] simulating a dose series (one structure, fixed optics)")
    start = time.perf_counter()
    series_path = out / "dose_series.zarr"
    simulate_dose_series(
        series_path,
        DoseSeriesConfig(doses_e_per_A2=list(MONTAGE_DOSES_E_PER_A2), seed=seed, **simulation),
    )
    timings.append(["dose series", time.perf_counter() - start])
    _dose_series_section(report, DatasetStore.open(series_path))

    console.print("[bold]2/6[/] simulating labelled training and held-out images (exit-wave reuse)")
    start = time.perf_counter()
    train_path, held_out_path = out / "hrtem_train.zarr", out / "hrtem_held_out.zarr"
    simulate_hrtem_dataset(
        train_path, HrtemDatasetConfig(n_structures=settings.train_structures,
                                       variants_per_structure=settings.variants_per_structure,
                                       dose_range_e_per_A2=SEGMENT_DOSE_RANGE_E_PER_A2, seed=seed, **simulation),
        workers=settings.workers,
    )
    simulate_hrtem_dataset(
        held_out_path, HrtemDatasetConfig(n_structures=settings.held_out_structures, variants_per_structure=2,
                                          dose_range_e_per_A2=SEGMENT_DOSE_RANGE_E_PER_A2, seed=seed + 1,
                                          **simulation),
        workers=settings.workers,
    )
    n_images = settings.variants_per_structure * settings.train_structures + 2 * settings.held_out_structures
    timings.append([f"labelled images ({n_images})", time.perf_counter() - start])
    _dataset_section(report, DatasetStore.open(train_path))

    console.print("[bold]3/6[/] fitting the detector MTF back from simulated vacuum")
    start = time.perf_counter()
    _mtf_section(report, seed)
    timings.append(["MTF fits (vacuum dose series)", time.perf_counter() - start])

    console.print(f"[bold]4/6[/] training {settings.model} for {settings.train_minutes:g} min, segmenting held-out images")
    start = time.perf_counter()
    _segmentation_section(report, settings, train_path, DatasetStore.open(held_out_path), out / "segment-run", seed)
    timings.append(["segmentation: training + held-out predictions", time.perf_counter() - start])

    console.print(f"[bold]5/6[/] pretraining {settings.model} without labels ({settings.pretrain_minutes:g} min), "
                  f"fine-tuning from random vs pretrained weights on {settings.finetune_images} labelled images")
    start = time.perf_counter()
    _pretraining_section(report, settings, train_path, held_out_path, out / "compare", seed)
    timings.append(["pretraining + fine-tuning comparison", time.perf_counter() - start])

    console.print("[bold]6/6[/] denoising the dose series with the shipped model")
    start = time.perf_counter()
    _denoising_section(report, DatasetStore.open(series_path))
    timings.append(["denoising (shipped model)", time.perf_counter() - start])

    report.heading("Run time")
    report.table(["step", "seconds"], timings)
    return report.write(out)


def _dose_series_section(report: HtmlReport, store: DatasetStore) -> None:
    samples = [store.sample(sample_id) for sample_id in store.ids()]
    first = samples[0]
    images = [first.array("clean")]
    titles = ["clean"]
    for sample in samples:
        images.append(sample.array("noisy"))
        titles.append(f"{sample.metadata['dose_e_per_A2']:.0f} e⁻/Å²")
    images.append(first.array("mask").astype(np.float32))
    titles.append("mask (Au convex hull)")
    report.heading("One structure at rising frame dose")
    report.figure(
        "montage_dose_series", montage(images, titles),
        "Clean intensity, noisy frames at 10, 100 and 1000 e⁻/Å², and the Au mask.",
    )
    metadata = first.metadata
    rows = [[key, value] for key, value in metadata.items() if key not in ("dose_e_per_A2", "dose_e_per_px")]
    report.table(["parameter", "value"], rows, "Parameters of this series (fixed across frames)")


def _dataset_section(report: HtmlReport, store: DatasetStore) -> None:
    ids = store.ids()[:6]
    samples = [store.sample(sample_id) for sample_id in ids]
    images: list[np.ndarray] = []
    titles: list[str] = []
    for sample_id, sample in zip(ids, samples, strict=True):
        images += [sample.array("clean"), sample.array("noisy"), sample.array("mask").astype(np.float32)]
        dose = sample.metadata["dose_e_per_A2"]
        titles += [f"{sample_id} clean", f"noisy, {dose:.0f} e⁻/Å²", "mask"]
    report.heading("Labelled training images")
    report.figure("montage_dataset", montage(images, titles, ncols=6),
                  f"The first {len(ids)} of {len(store)} training images; several image variants per exit wave.")
    keys = ["dose_e_per_A2", "defocus_A", "cs_um", "focal_spread_A", "blur_A", "mtf_c0", "mtf_c3",
            "n0_e_per_px", "diameter_A", "tilt_deg"]
    rows = [[sample_id] + [sample.metadata.get(key, "") for key in keys] for sample_id, sample in zip(ids, samples, strict=True)]
    report.table(["sample"] + keys, rows, "Drawn parameters per image")


def _mtf_section(report: HtmlReport, seed: int) -> None:
    rng = np.random.default_rng(seed)
    true_mtf, n0 = MTF_PRESETS["mtf3"].sample(rng)
    doses_e_per_px = np.geomspace(0.02, 20.0, 10)
    flat = np.ones((512, 512), dtype=np.float32)
    fits = [detector_image(flat, dose, mtf=true_mtf, n0_e_per_px=n0, seed=rng) for dose in doses_e_per_px]
    series = fit_mtf_series(fits, doses_e_per_px, floor="readout")
    mtf_fits, readout = series.fits, series.readout
    brightest = mtf_fits[-1]
    effective = MTFParams(c0=true_mtf.c0, c3=true_mtf.c3, C=float(np.sqrt(n0 / (n0 + doses_e_per_px[-1]))))
    report.heading("Detector MTF fitted back from simulated vacuum (Larsen et al. 2023, App. A.3)")
    report.figure(
        "mtf_fit", mtf_fit_figure(brightest, effective, title=f"vacuum, {doses_e_per_px[-1]:.0f} e⁻/px"),
        "Azimuthally averaged amplitude spectrum with the fit of the eq. 3 vacuum spectrum "
        "sqrt(N_D·MTF² + N0) (top) and the normalised MTF against the true curve (bottom; the "
        "true tail C = sqrt(N0/(N0+N_D)), eq. 2).",
    )
    report.figure(
        "readout_fit", readout_fit_figure(doses_e_per_px, [f.C for f in mtf_fits], readout.n0_e_per_px, n0),
        "Fitted C against dose per pixel and the eq. 2 fit C² = N0/(N0+N_D) "
        "(Larsen et al. 2023, Fig. 6).",
    )
    rows = [[f"{d:.3g}", f.c0, f.c3, f.C, f.r2] for d, f in zip(doses_e_per_px, mtf_fits, strict=True)]
    report.table(["dose (e⁻/px)", "c0", "c3", "C", "R²"], rows, "Per-frame fits")
    report.table(
        ["quantity", "true", "fitted"],
        [
            ["c0 (q/q_N)", true_mtf.c0, brightest.c0],
            ["c3", true_mtf.c3, brightest.c3],
            ["N0 (e⁻/px)", n0, readout.n0_e_per_px],
        ],
        f"Known answer: the MTF drawn from preset mtf3 (R² of the N0 fit {readout.r2:.3f})",
    )


def _segmentation_section(
    report: HtmlReport, settings: DemoSettings, train_path: Path, held_out: DatasetStore, run_dir: Path, seed: int
) -> None:
    config = TrainConfig.validate_dict({
        "task": "segment",
        "model": {"name": settings.model},
        "data": {"store": str(train_path), "crop_px": settings.crop_px, "val_fraction": 0.2},
        "loss": "bce_dice",
        "epochs": 1000,
        "max_minutes": settings.train_minutes,
        "batch_size": 8,
        "checkpoint_every_n_epochs": 5,
        "out_dir": str(run_dir),
        "seed": seed,
    })
    result = train(config, resume=False)
    model = load_model(result.best_checkpoint or result.last_checkpoint)
    images, titles, rows = [], [], []
    for sample_id in held_out.ids():
        sample = held_out.sample(sample_id)
        noisy, truth = sample.array("noisy"), sample.array("mask") > 0
        prediction = segment(noisy, model, tile_px=settings.size_px, overlap_px=0, device="auto")
        score = dice(prediction.mask, truth)
        dose = sample.metadata["dose_e_per_A2"]
        rows.append([sample_id, dose, score, len(prediction.particles)])
        images += [noisy, truth.astype(np.float32), prediction.probability]
        titles += [f"{sample_id}, {dose:.0f} e⁻/Å²", "true mask", f"predicted, Dice {score:.2f}"]
    report.heading("Segmentation of held-out simulated images")
    report.text(
        f"{settings.model} trained with BCE + Dice for {settings.train_minutes:g} CPU-minutes on the training "
        f"images above (random {settings.crop_px}² crops, flips, 90° rotations); held-out images come from "
        "other structures (another seed). Best checkpoint by validation Dice. Longer training does better: "
        "see BENCHMARKS.md."
    )
    report.figure("segmentation_held_out", montage(images, titles, ncols=6),
                  "Noisy input, exact mask (Au convex hull) and the predicted probability map.")
    report.png("training_curves", Path(result.curves_png).read_bytes(), "Training and validation curves.")
    mean_dice = float(np.mean([row[2] for row in rows]))
    report.table(["image", "dose (e⁻/Å²)", "Dice", "particles found"], rows,
                 f"Held-out Dice, mean {mean_dice:.3f}")



def _pretraining_section(
    report: HtmlReport, settings: DemoSettings, train_path: Path, held_out_path: Path, out: Path, seed: int
) -> None:
    """Kazimi et al. 2024 in miniature: Pix2Pix pretraining on the unlabeled images, then R vs P."""
    config = CompareConfig.validate_dict({
        "task": "segment",
        "models": [settings.model],
        "store": str(train_path),
        "test_store": str(held_out_path),
        "max_train_samples": settings.finetune_images,
        "crop_px": settings.crop_px,
        "epochs": settings.finetune_epochs,
        "checkpoint_every_n_epochs": 2,
        "batch_size": 8,
        "seeds": [seed],
        "out_dir": str(out),
        "pretrain": {
            "pretext": "gan",
            "data": {"stores": [str(train_path)], "store_key": "noisy", "crop_px": settings.crop_px},
            "sizes": [len(DatasetStore.open(train_path))],
            "epochs": 1000,
            "max_minutes": settings.pretrain_minutes,
        },
    })
    result = run_compare(config, progress=False)
    report.heading("Self-supervised pretraining, then fine-tuning (Kazimi et al. 2024)")
    report.text(
        f"{settings.model} pretrained as a Pix2Pix generator (least-squares GAN + 100·L1, PatchGAN "
        f"discriminator) for {settings.pretrain_minutes:g} CPU-minutes on the noisy training images, masks "
        f"unused; then fine-tuned with BCE on {settings.finetune_images} labelled images from random (R) and "
        "pretrained (P(N), N unlabeled images) weights. The table gives the held-out Dice (%) of the "
        "best-so-far checkpoint every 2 epochs, the layout of Kazimi et al. 2024, Tables 2-6. "
        "One seed and minutes of CPU: RESULTS.md has the 3-seed comparison."
    )
    rows = list(csv.reader(result.table_csv.open(newline="", encoding="utf-8")))
    report.table(rows[0], [[r[0], r[1], *(f"{float(v):.1f}" if v else "" for v in r[2:])] for r in rows[1:]],
                 "Held-out Dice (%) of the best-so-far checkpoint at each epoch")
    report.png("finetune_curves", result.curves_png.read_bytes(), "Validation Dice during fine-tuning.")
    pretrain_curves = next((out / "pretrain").glob("*/curves.png"), None)
    if pretrain_curves is not None:
        report.png("pretrain_curves", pretrain_curves.read_bytes(), "Pretraining: losses and validation L1.")


def _denoising_section(report: HtmlReport, series: DatasetStore) -> None:
    """The shipped denoiser on the dose series: the first thing a user would try."""
    from dosewise.infer.denoise import Denoiser, default_model_path

    denoiser = Denoiser.from_checkpoint(default_model_path(), device="auto")
    samples = [series.sample(sample_id) for sample_id in series.ids()]
    clean = samples[0].array("clean")
    images, titles, rows = [], [], []
    for sample in samples:
        noisy = sample.array("noisy")
        restored = denoiser(noisy)
        dose = sample.metadata["dose_e_per_px"]
        images += [noisy, restored]
        titles += [f"{dose:.1f} e⁻/px", "denoised"]
        rows.append([f"{sample.metadata['dose_e_per_A2']:.0f}", f"{dose:.2f}",
                     f"{relative_psnr_db(noisy, clean):.1f}", f"{relative_psnr_db(restored, clean):.1f}"])
    report.heading("Denoising with the shipped model")
    report.text(
        "`dosewise denoise` with no --model uses the small denoiser that ships with dosewise (fast-unet, trained "
        "on simulated HRTEM, particle fields and STEM at 1-100 e⁻/px; see its model card). It was not trained "
        "on this structure. Outputs stay in the input's units."
    )
    report.figure("denoising_dose_series", montage(images, titles, ncols=len(images)),
                  "Noisy frames of the dose series and the shipped model's output.")
    report.table(["dose (e⁻/Å²)", "dose (e⁻/px)", "PSNR noisy (dB)", "PSNR denoised (dB)"], rows,
                 "PSNR against the clean intensity (each image divided by its mean)")
