"""Cheaper software rendering: MuJoCo's visual effects that cost the most
when Mesa renders on a CPU."""


def drop_costly_effects(model, reflections=False):
    """Turns off shadows and multisample anti-aliasing in `model`, and floor
    reflections unless `reflections`. Must precede the first render: the
    offscreen context reads these settings when it is made."""
    model.vis.quality.shadowsize = 0
    model.vis.quality.offsamples = 0
    if not reflections:
        model.mat_reflectance[:] = 0
