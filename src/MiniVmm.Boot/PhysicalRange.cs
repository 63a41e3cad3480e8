namespace MiniVmm.Boot;

/// <summary>A guest-physical range [Start, End).</summary>
public readonly record struct PhysicalRange(ulong Start, ulong End)
{
    public ulong Length => End - Start;

    public bool Overlaps(PhysicalRange other) => Start < other.End && other.Start < End;

    public override string ToString() => $"[0x{Start:x}, 0x{End:x})";
}
