using MiniVmm.Machine.Bus;

namespace MiniVmm.Machine.Devices;

/// <summary>
/// The MC146818 real-time clock and its CMOS RAM behind the index/data ports 0x70/0x71 (register names
/// as in Linux's include/linux/mc146818rtc.h). The time registers are read from the host clock in UTC
/// at the moment of the read, so the clock needs no timer, is never mid-update (status A UIP is 0) and
/// its battery is always good (status D VRT is 1). Guest writes to the time registers are ignored: the
/// guest's clock follows the host's. No RTC interrupt (IRQ 8) is ever raised; the interrupt-enable bits
/// of status B are stored and otherwise ignored.
/// </summary>
public sealed class CmosRtc(TimeProvider? time = null) : IBusDevice
{
    public const ushort DefaultPort = 0x70;
    public const int Length = 2;   // 0x70 index (write; bit 7 masks NMI), 0x71 data

    public const byte RTC_SECONDS = 0x00;
    public const byte RTC_MINUTES = 0x02;
    public const byte RTC_HOURS = 0x04;
    public const byte RTC_DAY_OF_WEEK = 0x06;   // 1 = Sunday
    public const byte RTC_DAY_OF_MONTH = 0x07;
    public const byte RTC_MONTH = 0x08;
    public const byte RTC_YEAR = 0x09;          // two digits
    public const byte RTC_REG_A = 0x0A;
    public const byte RTC_REG_B = 0x0B;
    public const byte RTC_REG_C = 0x0C;
    public const byte RTC_REG_D = 0x0D;
    public const byte RTC_CENTURY = 0x32;       // the IBM PC/AT location, named by ACPI's FADT century field

    public const byte RTC_UIP = 0x80;           // status A: update in progress
    public const byte RTC_DM_BINARY = 0x04;     // status B: binary, not BCD
    public const byte RTC_24H = 0x02;           // status B: 24-hour mode
    public const byte RTC_VRT = 0x80;           // status D: valid RAM and time

    private const int CmosSize = 128;
    private const byte IndexMask = 0x7F;
    private const byte ResetRegA = 0x26;        // 32.768 kHz time base, 1024 Hz periodic rate
    private const byte ResetRegB = RTC_24H;     // BCD, 24-hour, no interrupts

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // _lock guards _index and _cmos: vCPUs may use the index/data pair concurrently (Linux serialises
    // with rtc_lock, but the model must stay consistent anyway).
    private readonly Lock _lock = new();
    private byte _index;
    private readonly byte[] _cmos = NewCmos();

    public void Read(ulong offset, Span<byte> data)
    {
        data.Fill(0xFF);
        if (offset != 1 || data.IsEmpty)
            return; // the index register is write-only
        lock (_lock)
            data[0] = ReadRegisterLocked(_index);
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return;
        lock (_lock)
        {
            if (offset == 0)
                _index = (byte)(data[0] & IndexMask);
            else if (offset == 1)
                WriteRegisterLocked(_index, data[0]);
        }
    }

    private byte ReadRegisterLocked(byte index)
    {
        DateTime now = _time.GetUtcNow().UtcDateTime;
        switch (index)
        {
            case RTC_SECONDS: return Encode(now.Second);
            case RTC_MINUTES: return Encode(now.Minute);
            case RTC_HOURS: return EncodeHour(now.Hour);
            case RTC_DAY_OF_WEEK: return Encode((int)now.DayOfWeek + 1);
            case RTC_DAY_OF_MONTH: return Encode(now.Day);
            case RTC_MONTH: return Encode(now.Month);
            case RTC_YEAR: return Encode(now.Year % 100);
            case RTC_CENTURY: return Encode(now.Year / 100);
            case RTC_REG_A: return (byte)(_cmos[RTC_REG_A] & ~RTC_UIP);
            case RTC_REG_C: return 0;        // no interrupt flags are ever raised
            case RTC_REG_D: return RTC_VRT;
            default: return _cmos[index];
        }
    }

    private void WriteRegisterLocked(byte index, byte value)
    {
        switch (index)
        {
            case RTC_SECONDS or RTC_MINUTES or RTC_HOURS or RTC_DAY_OF_WEEK or RTC_DAY_OF_MONTH
                or RTC_MONTH or RTC_YEAR or RTC_CENTURY or RTC_REG_C or RTC_REG_D:
                break; // time follows the host; C and D are read-only
            default:
                _cmos[index] = value; // alarms, status A/B and general CMOS RAM
                break;
        }
    }

    private byte EncodeHour(int hour)
    {
        if ((_cmos[RTC_REG_B] & RTC_24H) != 0)
            return Encode(hour);
        // 12-hour mode: 12, 1 ... 11, with bit 7 set for PM.
        int hour12 = hour % 12 == 0 ? 12 : hour % 12;
        return (byte)(Encode(hour12) | (hour >= 12 ? 0x80 : 0));
    }

    private byte Encode(int value) =>
        (_cmos[RTC_REG_B] & RTC_DM_BINARY) != 0 ? (byte)value : (byte)(((value / 10) << 4) | (value % 10));

    private static byte[] NewCmos()
    {
        var cmos = new byte[CmosSize];
        cmos[RTC_REG_A] = ResetRegA;
        cmos[RTC_REG_B] = ResetRegB;
        return cmos;
    }
}
