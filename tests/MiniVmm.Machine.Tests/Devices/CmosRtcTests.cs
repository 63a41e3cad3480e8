using MiniVmm.Machine.Devices;
using static MiniVmm.Machine.Devices.CmosRtc;

namespace MiniVmm.Machine.Tests.Devices;

public sealed class CmosRtcTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    // Thursday 2024-02-29 21:07:09 UTC.
    private readonly CmosRtc _rtc = new(new FixedTime(new DateTimeOffset(2024, 2, 29, 21, 7, 9, TimeSpan.Zero)));

    private byte ReadCmos(byte index)
    {
        _rtc.WriteByte(0, index);
        return _rtc.ReadByte(1);
    }

    private void WriteCmos(byte index, byte value)
    {
        _rtc.WriteByte(0, index);
        _rtc.WriteByte(1, value);
    }

    [Theory]
    [InlineData(RTC_SECONDS, 0x09)]
    [InlineData(RTC_MINUTES, 0x07)]
    [InlineData(RTC_HOURS, 0x21)]
    [InlineData(RTC_DAY_OF_WEEK, 0x05)] // Thursday = 5 (Sunday = 1)
    [InlineData(RTC_DAY_OF_MONTH, 0x29)]
    [InlineData(RTC_MONTH, 0x02)]
    [InlineData(RTC_YEAR, 0x24)]
    [InlineData(RTC_CENTURY, 0x20)]
    [InlineData(RTC_REG_B, 0x02)]
    [InlineData(RTC_REG_C, 0x00)]
    [InlineData(RTC_REG_D, 0x80)]
    public void BcdTimeAndStatusRegisters(byte index, byte expected) => Assert.Equal(expected, ReadCmos(index));

    [Fact]
    public void StatusANeverShowsAnUpdateInProgress()
    {
        Assert.Equal(0, ReadCmos(RTC_REG_A) & RTC_UIP);
        WriteCmos(RTC_REG_A, 0xA6);
        Assert.Equal(0x26, ReadCmos(RTC_REG_A));
    }

    [Fact]
    public void BinaryModeAndTwelveHourMode()
    {
        WriteCmos(RTC_REG_B, RTC_DM_BINARY | RTC_24H);
        Assert.Equal(21, ReadCmos(RTC_HOURS));
        Assert.Equal(29, ReadCmos(RTC_DAY_OF_MONTH));
        WriteCmos(RTC_REG_B, 0); // BCD, 12-hour: 9 PM
        Assert.Equal(0x89, ReadCmos(RTC_HOURS));
    }

    [Fact]
    public void TimeWritesAreIgnoredAndRamWritesKept()
    {
        WriteCmos(RTC_SECONDS, 0x55);
        Assert.Equal(0x09, ReadCmos(RTC_SECONDS));
        WriteCmos(RTC_REG_D, 0);
        Assert.Equal(RTC_VRT, ReadCmos(RTC_REG_D));
        WriteCmos(0x40, 0xAB);
        Assert.Equal(0xAB, ReadCmos(0x40));
    }

    [Fact]
    public void NmiMaskBitIsNotPartOfTheIndex()
    {
        _rtc.WriteByte(0, 0x80 | RTC_MINUTES);
        Assert.Equal(0x07, _rtc.ReadByte(1));
    }

    [Fact]
    public void IndexPortReadsAllOnes() => Assert.Equal(0xFF, _rtc.ReadByte(0));

    [Fact]
    public void SystemClockIsTheDefault()
    {
        var rtc = new CmosRtc();
        rtc.WriteByte(0, RTC_YEAR);
        byte year = rtc.ReadByte(1);
        int expected = DateTime.UtcNow.Year % 100;
        Assert.Equal(((expected / 10) << 4) | (expected % 10), year);
    }
}
