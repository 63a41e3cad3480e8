using MiniVmm.Machine.Devices;
using static MiniVmm.Machine.Devices.I8042;

namespace MiniVmm.Machine.Tests.Devices;

public sealed class I8042Tests
{
    private readonly FakeMachineControl _control = new();
    private readonly I8042 _kbc;

    public I8042Tests() => _kbc = new I8042(_control);

    private byte Status() => _kbc.CommandPort.ReadByte(0);

    private byte Data() => _kbc.DataPort.ReadByte(0);

    private void Command(byte command) => _kbc.CommandPort.WriteByte(0, command);

    private void SendData(byte value) => _kbc.DataPort.WriteByte(0, value);

    private byte CommandWithReply(byte command)
    {
        Command(command);
        Assert.Equal(I8042_STR_OBF, Status() & I8042_STR_OBF);
        byte reply = Data();
        Assert.Equal(0, Status() & I8042_STR_OBF);
        return reply;
    }

    [Fact]
    public void IdleStatusHasNoDataAndIsNotAllOnes()
    {
        byte status = Status();
        Assert.Equal(0, status & (I8042_STR_OBF | I8042_STR_IBF));
        Assert.Equal(I8042_STR_KEYLOCK, status & I8042_STR_KEYLOCK);
        Assert.NotEqual(0xFF, status);
    }

    [Fact]
    public void SelfTestPasses() => Assert.Equal(0x55, CommandWithReply(I8042_CMD_CTL_TEST));

    [Fact]
    public void InterfaceTestsPass()
    {
        Assert.Equal(0x00, CommandWithReply(I8042_CMD_KBD_TEST));
        Assert.Equal(0x00, CommandWithReply(I8042_CMD_AUX_TEST));
    }

    [Fact]
    public void CommandByteReadsBackWhatWasWritten()
    {
        byte initial = CommandWithReply(I8042_CMD_CTL_RCTR);
        Assert.Equal(I8042_CTR_SYSFLAG, initial & I8042_CTR_SYSFLAG);
        Command(I8042_CMD_CTL_WCTR);
        Assert.Equal(I8042_STR_CMDDAT, Status() & I8042_STR_CMDDAT);
        SendData(0x47);
        Assert.Equal(0, Status() & I8042_STR_CMDDAT);
        Assert.Equal(0x47, CommandWithReply(I8042_CMD_CTL_RCTR));
    }

    [Fact]
    public void EnableAndDisableCommandsToggleCommandByteBits()
    {
        Command(I8042_CMD_AUX_ENABLE);
        Command(I8042_CMD_KBD_DISABLE);
        byte ctr = CommandWithReply(I8042_CMD_CTL_RCTR);
        Assert.Equal(0, ctr & I8042_CTR_AUXDIS);
        Assert.Equal(I8042_CTR_KBDDIS, ctr & I8042_CTR_KBDDIS);
        Command(I8042_CMD_AUX_DISABLE);
        Command(I8042_CMD_KBD_ENABLE);
        ctr = CommandWithReply(I8042_CMD_CTL_RCTR);
        Assert.Equal(I8042_CTR_AUXDIS, ctr & I8042_CTR_AUXDIS);
        Assert.Equal(0, ctr & I8042_CTR_KBDDIS);
    }

    [Fact]
    public void LoopCommandsEchoTheByteFromTheRightPort()
    {
        Command(I8042_CMD_AUX_LOOP);
        SendData(0x5A);
        Assert.Equal(I8042_STR_OBF | I8042_STR_AUXDATA, Status() & (I8042_STR_OBF | I8042_STR_AUXDATA));
        Assert.Equal(0x5A, Data());
        Command(I8042_CMD_KBD_LOOP);
        SendData(0x33);
        Assert.Equal(I8042_STR_OBF, Status() & (I8042_STR_OBF | I8042_STR_AUXDATA));
        Assert.Equal(0x33, Data());
    }

    [Fact]
    public void BytesForAbsentDevicesAreDropped()
    {
        SendData(0xF2); // keyboard GET ID
        Command(I8042_CMD_AUX_SEND);
        SendData(0xFF); // mouse reset
        Assert.Equal(0, Status() & I8042_STR_OBF);
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void PulseResetLineStopsTheMachineWithCodeZero()
    {
        Command(I8042_CMD_RESET);
        var request = Assert.Single(_control.Requests);
        Assert.Equal(0, request.ExitCode);
        Assert.Equal("guest reset the machine (i8042 0xFE)", request.Description);
    }

    [Theory]
    [InlineData(0xF0)]
    [InlineData(0xFA)]
    public void AnyPulseOfLineZeroResets(byte command)
    {
        Command(command);
        Assert.Equal(0, Assert.Single(_control.Requests).ExitCode);
    }

    [Theory]
    [InlineData(0xFF)]
    [InlineData(0xF1)]
    public void PulsesThatLeaveLineZeroAloneDoNothing(byte command)
    {
        Command(command);
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void OutputPortWriteWithResetBitClearResets()
    {
        Command(I8042_CMD_WRITE_OUTPORT);
        SendData(0xDF); // A20 on, reset line high: harmless
        Assert.Empty(_control.Requests);
        Assert.Equal(0xDF, CommandWithReply(I8042_CMD_READ_OUTPORT));
        Command(I8042_CMD_WRITE_OUTPORT);
        SendData(0xDE);
        var request = Assert.Single(_control.Requests);
        Assert.Equal(0, request.ExitCode);
        Assert.Contains("i8042", request.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void AWriteToTheDataPortAfterACompletedCommandIsNotTakenAsItsData()
    {
        Command(I8042_CMD_WRITE_OUTPORT);
        Command(I8042_CMD_CTL_TEST); // a new command cancels the pending one
        Data();
        SendData(0x00);
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void WideAndOffsetAccessesAreHarmless()
    {
        Span<byte> data = stackalloc byte[2];
        _kbc.CommandPort.Read(0, data);
        Assert.Equal(0xFF, data[1]);
        _kbc.CommandPort.Write(1, [I8042_CMD_RESET]);
        Assert.Empty(_control.Requests);
    }
}
