namespace MiniVmm.Input;

/// <summary>
/// A host window's input as evdev batches for the keyboard and the tablet. Wayland already speaks evdev: wl_keyboard key
/// codes and wl_pointer button codes are Linux input codes, so only positions need work (surface coordinates scaled
/// to the tablet's 0..AbsMax, whatever the window's size).
/// </summary>
public static class WindowInput
{
    public static InputEvent[] Key(uint code, bool pressed) =>
        [new(EventTypes.Key, (ushort)Math.Min(code, ushort.MaxValue), pressed ? 1u : 0u), InputEvent.Sync];

    public static InputEvent[] Button(uint code, bool pressed) => Key(code, pressed);

    /// <summary>The pointer at (<paramref name="x"/>, <paramref name="y"/>) in a <paramref name="width"/> x <paramref name="height"/> window.</summary>
    public static InputEvent[] Motion(double x, double y, int width, int height) =>
        [new(EventTypes.Abs, InputCodes.AbsX, Scale(x, width)), new(EventTypes.Abs, InputCodes.AbsY, Scale(y, height)), InputEvent.Sync];

    /// <summary>One wheel notch per step; positive Wayland axis values scroll down (or right), negative REL_WHEEL values do.</summary>
    public static InputEvent[] Wheel(int verticalSteps, int horizontalSteps)
    {
        var batch = new List<InputEvent>(3);
        if (verticalSteps != 0)
            batch.Add(new(EventTypes.Rel, InputCodes.RelWheel, unchecked((uint)-verticalSteps)));
        if (horizontalSteps != 0)
            batch.Add(new(EventTypes.Rel, InputCodes.RelHorizontalWheel, unchecked((uint)horizontalSteps)));
        batch.Add(InputEvent.Sync);
        return [.. batch];
    }

    private static uint Scale(double position, int size)
    {
        if (size <= 1 || double.IsNaN(position))
            return 0;
        double fraction = Math.Clamp(position / (size - 1), 0, 1);
        return (uint)Math.Round(fraction * InputCodes.AbsMax);
    }
}
