// hwflow_output: streams the last layer out, one output per AXI-Stream beat, tlast on the last.
//   STEPS=0: the readout's membranes (read a group of LANES at a time), sign-extended to TDATA_BITS;
//   STEPS>0: the levels of a spiking last layer, gathered MSB first from its STEPS planes.
// Cycles from `start` to `done` with tready high: N + 1 (readout), N*(STEPS+1) + 1 (spiking).
module hwflow_output #(
    parameter N = 4,
    parameter LANES = 1,
    parameter STEPS = 0,
    parameter V_BITS = 16,
    parameter TDATA_BITS = 16,
    parameter G = (N + LANES - 1) / LANES,
    parameter STRIDE = 1 << $clog2(G),  // the producer's words per plane
    parameter AW = $clog2((STEPS == 0 ? G : STEPS * STRIDE) + 1),
    parameter DW = STEPS == 0 ? LANES * V_BITS : LANES
) (
    input wire clk,
    input wire rst,
    input wire start,
    output wire done,
    output reg [AW-1:0] rd_addr,
    input wire [DW-1:0] rd_data,
    output wire [TDATA_BITS-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input wire m_axis_tready,
    output wire m_axis_tlast
);
    localparam S_IDLE = 2'd0, S_FETCH = 2'd1, S_SEND = 2'd2, S_DONE = 2'd3;
    reg [1:0] state;
    reg [$clog2(G + 1)-1:0] g;
    reg [$clog2(LANES + 1)-1:0] l;
    reg [$clog2(STEPS + 2)-1:0] tau;
    reg [$clog2(N + 1)-1:0] j;
    reg [STEPS == 0 ? 0 : STEPS-1:0] level;
    assign done = state == S_DONE;
    assign m_axis_tvalid = state == S_SEND;
    assign m_axis_tlast = j == N - 1;
    wire beat = m_axis_tvalid && m_axis_tready;
    wire next_bit = rd_data[l];
    generate
        if (STEPS == 0) begin : values
            wire signed [V_BITS-1:0] v = rd_data[l*V_BITS +: V_BITS];
            wire signed [TDATA_BITS-1:0] wide = v;
            assign m_axis_tdata = wide;
        end else begin : levels
            assign m_axis_tdata = level;
        end
    endgenerate

    always @(*) rd_addr = STEPS == 0 ? g : tau * STRIDE + g;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state <= STEPS == 0 ? S_SEND : S_FETCH;
                    g <= 0;
                    l <= 0;
                    j <= 0;
                    tau <= 0;
                end
                S_FETCH: begin
                    level <= {level, next_bit};
                    tau <= tau + 1'b1;
                    if (tau == STEPS - 1) state <= S_SEND;
                end
                S_SEND: if (beat) begin
                    j <= j + 1'b1;
                    l <= l + 1'b1;
                    tau <= 0;
                    if (l == LANES - 1) begin
                        l <= 0;
                        g <= g + 1'b1;
                    end
                    state <= j == N - 1 ? S_DONE : (STEPS == 0 ? S_SEND : S_FETCH);
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
