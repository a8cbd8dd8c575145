"""An evaluation report as text (generated beside the real-data baseline) and as JSON."""


def to_json(report):
    """The report without its arrays, ready for json.dump."""
    return {k: v for k, v in report.items() if k != "generated_images"}


def format_report(report):
    """A plain-text table: each metric, generated beside the real-data baseline."""
    generated, baseline = report["generated"], report.get("baseline", {})
    lines = [f"{report['source']} on {report['dataset']}", f"protocol: {report['protocol']}"]
    keys = {
        "modes": ["modes_captured", "high_quality", "mode_kl"],
        "gaussian1d": ["mean", "std", "ks"],
        "images": ["classifier_score", "frechet_distance", "class_kl", "classes_covered", "conditional_accuracy"],
    }[report["kind"]]
    lines.append(f"{'metric':<22}{'generated':>12}{'real baseline':>16}")
    for key in keys:
        if key not in generated:
            continue
        lines.append(f"{key:<22}{_fmt(generated[key]):>12}{_fmt(baseline.get(key)):>16}")
    if report["kind"] == "modes":
        lines.append(f"(out of {generated['num_modes']} modes; high_quality in % of samples)")
    inception = report.get("inception")
    if inception:
        if inception.get("status") == "ok":
            for key in ("fid", "kid"):
                lines.append(
                    f"{key:<22}{_fmt(inception['generated'][key]):>12}{_fmt(inception['baseline'][key]):>16}"
                )
        else:
            lines.append(f"FID/KID: {inception['status']}" + (f": {inception['reason']}" if "reason" in inception else ""))
    return "\n".join(lines)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"
