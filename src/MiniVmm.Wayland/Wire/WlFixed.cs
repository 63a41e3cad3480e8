namespace MiniVmm.Wayland;

/// <summary>Wayland's signed 24.8 fixed-point number (wl_fixed_t): <see cref="Raw"/> is value × 256.</summary>
public readonly record struct WlFixed(int Raw)
{
    public static WlFixed FromInt(int value) => new(value << 8);

    /// <summary>Rounds to the nearest 1/256; values outside ±8388607 saturate rather than wrap.</summary>
    public static WlFixed FromDouble(double value) =>
        new((int)Math.Clamp(Math.Round(value * 256.0), int.MinValue, int.MaxValue));

    public double ToDouble() => Raw / 256.0;

    /// <summary>The integer part, rounding toward negative infinity like an arithmetic shift.</summary>
    public int ToInt() => Raw >> 8;

    public override string ToString() => ToDouble().ToString("0.########", System.Globalization.CultureInfo.InvariantCulture);
}
