using MiniVmm.Machine.Bus;

namespace MiniVmm.Machine.Devices;

/// <summary>
/// An 8042 keyboard controller with nothing plugged into it: enough for Linux's i8042 driver to find a
/// working controller (self-test, command byte, port tests, loopback writes) and for a guest to reset
/// the machine through it, which MiniVmm treats as the end of the VM.
/// <para>
/// The controller decodes two ports, 0x60 and 0x64, but port 0x61 between them belongs to the PIT
/// speaker gate that KVM emulates in the kernel, so the machine registers the two views separately:
/// <c>pio.Register(I8042.DataPortAddress, 1, i8042.DataPort)</c> and
/// <c>pio.Register(I8042.CommandPortAddress, 1, i8042.CommandPort)</c>.
/// </para>
/// <para>
/// With no keyboard or mouse, bytes sent to a device are dropped and no interrupt is ever raised;
/// Linux then waits for its probe time-outs unless the command line has
/// <c>i8042.noaux i8042.nomux i8042.dumbkbd</c> (or <c>i8042.nokbd</c>).
/// </para>
/// </summary>
public sealed class I8042
{
    public const ushort DataPortAddress = 0x60;
    public const ushort CommandPortAddress = 0x64;

    // Status register (read from 0x64).
    public const byte I8042_STR_OBF = 0x01;      // output buffer full: a byte waits at 0x60
    public const byte I8042_STR_IBF = 0x02;      // input buffer full: never, commands complete at once
    public const byte I8042_STR_SYSFLAG = 0x04;  // system flag: POST passed
    public const byte I8042_STR_CMDDAT = 0x08;   // last byte written went to 0x64 (a command)
    public const byte I8042_STR_KEYLOCK = 0x10;  // set = keyboard not inhibited (Linux warns if clear)
    public const byte I8042_STR_AUXDATA = 0x20;  // the byte in the output buffer came from the aux port

    // Controller commands (written to 0x64).
    public const byte I8042_CMD_CTL_RCTR = 0x20;   // read the command byte
    public const byte I8042_CMD_CTL_WCTR = 0x60;   // write the command byte (next byte at 0x60)
    public const byte I8042_CMD_AUX_DISABLE = 0xA7;
    public const byte I8042_CMD_AUX_ENABLE = 0xA8;
    public const byte I8042_CMD_AUX_TEST = 0xA9;   // aux interface test: 0x00 = no fault
    public const byte I8042_CMD_CTL_TEST = 0xAA;   // controller self-test: 0x55 = passed
    public const byte I8042_CMD_KBD_TEST = 0xAB;   // keyboard interface test: 0x00 = no fault
    public const byte I8042_CMD_KBD_DISABLE = 0xAD;
    public const byte I8042_CMD_KBD_ENABLE = 0xAE;
    public const byte I8042_CMD_READ_OUTPORT = 0xD0;
    public const byte I8042_CMD_WRITE_OUTPORT = 0xD1;  // next byte at 0x60; bit 0 = 0 asserts CPU reset
    public const byte I8042_CMD_KBD_LOOP = 0xD2;   // next byte comes back as if from the keyboard
    public const byte I8042_CMD_AUX_LOOP = 0xD3;   // next byte comes back as if from the mouse
    public const byte I8042_CMD_AUX_SEND = 0xD4;   // next byte goes to the mouse
    public const byte I8042_CMD_PULSE_FIRST = 0xF0; // 0xF0-0xFF pulse output lines whose mask bit is 0;
    public const byte I8042_CMD_RESET = 0xFE;       // 0xFE pulses bit 0, the CPU reset line

    // Command byte bits.
    public const byte I8042_CTR_KBDINT = 0x01;
    public const byte I8042_CTR_AUXINT = 0x02;
    public const byte I8042_CTR_SYSFLAG = 0x04;   // copied to the status register's system flag
    public const byte I8042_CTR_KBDDIS = 0x10;
    public const byte I8042_CTR_AUXDIS = 0x20;
    public const byte I8042_CTR_XLATE = 0x40;

    // As a BIOS leaves it after POST: keyboard interrupt and translation on, mouse disabled.
    private const byte ResetCommandByte = I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_AUXDIS | I8042_CTR_XLATE;
    private const byte OutputPortResetLine = 0x01; // output port bit 0: CPU reset, active low
    private const byte ResetOutputPort = OutputPortResetLine | 0x02; // reset inactive, A20 enabled

    private readonly IMachineControl _control;

    // _lock guards every field below.
    private readonly Lock _lock = new();
    private byte _commandByte = ResetCommandByte;
    private byte _outputPort = ResetOutputPort;
    private byte _pendingCommand;   // a command waiting for its data byte at 0x60, or 0
    private bool _lastWriteWasCommand;
    private bool _outputFull;
    private bool _outputFromAux;
    private byte _output;

    public I8042(IMachineControl control)
    {
        ArgumentNullException.ThrowIfNull(control);
        _control = control;
        DataPort = new Port(this, isCommandPort: false);
        CommandPort = new Port(this, isCommandPort: true);
    }

    /// <summary>Port 0x60: output buffer (read), data for the device or a pending command (write).</summary>
    public IBusDevice DataPort { get; }

    /// <summary>Port 0x64: status (read), controller command (write).</summary>
    public IBusDevice CommandPort { get; }

    private byte ReadData()
    {
        lock (_lock)
        {
            _outputFull = false;
            return _output;
        }
    }

    private byte ReadStatus()
    {
        lock (_lock)
        {
            byte status = (_commandByte & I8042_CTR_SYSFLAG) != 0 ? (byte)(I8042_STR_KEYLOCK | I8042_STR_SYSFLAG) : I8042_STR_KEYLOCK;
            if (_outputFull)
                status |= _outputFromAux ? (byte)(I8042_STR_OBF | I8042_STR_AUXDATA) : I8042_STR_OBF;
            if (_lastWriteWasCommand)
                status |= I8042_STR_CMDDAT;
            return status;
        }
    }

    private void WriteCommand(byte command)
    {
        string? reset = null;
        lock (_lock)
        {
            _lastWriteWasCommand = true;
            _pendingCommand = 0;
            switch (command)
            {
                case I8042_CMD_CTL_RCTR: PutOutputLocked(_commandByte, fromAux: false); break;
                case I8042_CMD_AUX_DISABLE: _commandByte |= I8042_CTR_AUXDIS; break;
                case I8042_CMD_AUX_ENABLE: _commandByte &= unchecked((byte)~I8042_CTR_AUXDIS); break;
                case I8042_CMD_KBD_DISABLE: _commandByte |= I8042_CTR_KBDDIS; break;
                case I8042_CMD_KBD_ENABLE: _commandByte &= unchecked((byte)~I8042_CTR_KBDDIS); break;
                case I8042_CMD_AUX_TEST or I8042_CMD_KBD_TEST: PutOutputLocked(0x00, fromAux: false); break;
                case I8042_CMD_CTL_TEST:
                    _commandByte |= I8042_CTR_SYSFLAG;
                    PutOutputLocked(0x55, fromAux: false);
                    break;
                case I8042_CMD_READ_OUTPORT: PutOutputLocked(_outputPort, fromAux: false); break;
                case I8042_CMD_CTL_WCTR or I8042_CMD_WRITE_OUTPORT or I8042_CMD_KBD_LOOP
                    or I8042_CMD_AUX_LOOP or I8042_CMD_AUX_SEND:
                    _pendingCommand = command;
                    break;
                case >= I8042_CMD_PULSE_FIRST when (command & OutputPortResetLine) == 0:
                    reset = $"guest reset the machine (i8042 0x{command:X2})";
                    break;
                default:
                    break; // other pulses and unknown commands do nothing
            }
        }
        // Outside the lock: the machine stops vCPUs, which must not wait on a device lock.
        if (reset is not null)
            _control.RequestStop(new StopReason(ExitCodes.GuestPowerOff, reset));
    }

    private void WriteData(byte value)
    {
        string? reset = null;
        lock (_lock)
        {
            _lastWriteWasCommand = false;
            byte command = _pendingCommand;
            _pendingCommand = 0;
            switch (command)
            {
                case I8042_CMD_CTL_WCTR: _commandByte = value; break;
                case I8042_CMD_WRITE_OUTPORT:
                    _outputPort = value;
                    if ((value & OutputPortResetLine) == 0)
                        reset = $"guest reset the machine (i8042 0xD1 output port 0x{value:X2})";
                    break;
                case I8042_CMD_KBD_LOOP: PutOutputLocked(value, fromAux: false); break;
                case I8042_CMD_AUX_LOOP: PutOutputLocked(value, fromAux: true); break;
                default:
                    break; // a byte for the keyboard or mouse: nothing is attached to receive it
            }
        }
        if (reset is not null)
            _control.RequestStop(new StopReason(ExitCodes.GuestPowerOff, reset));
    }

    private void PutOutputLocked(byte value, bool fromAux)
    {
        _output = value;
        _outputFromAux = fromAux;
        _outputFull = true;
    }

    /// <summary>One of the two one-port views the bus sees; wider accesses use their first byte.</summary>
    private sealed class Port(I8042 controller, bool isCommandPort) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data)
        {
            data.Fill(0xFF);
            if (offset == 0 && data.Length > 0)
                data[0] = isCommandPort ? controller.ReadStatus() : controller.ReadData();
        }

        public void Write(ulong offset, ReadOnlySpan<byte> data)
        {
            if (offset != 0 || data.Length == 0)
                return;
            if (isCommandPort)
                controller.WriteCommand(data[0]);
            else
                controller.WriteData(data[0]);
        }
    }
}
