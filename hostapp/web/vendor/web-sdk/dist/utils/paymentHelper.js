/**
 * Payment Helper
 * Handles payment processing through Desktop App callback
 */
/**
 * Process payment through Desktop App callback
 * Desktop App handles payment processing and returns the result
 */
export async function processPayment(params, config) {
    try {
        config.log('Processing payment request', params);
        // Check if callback is provided
        if (!config.onPaymentRequest) {
            const errorMsg = 'onPaymentRequest callback not provided, payment cannot be processed';
            // Always log critical payment errors, even when debug is false
            console.error(`[AppboxoWebSDK] [PAYMENT ERROR] ${errorMsg}. To fix: Provide onPaymentRequest callback in SDK configuration.`);
            config.log(`[PAYMENT ERROR] ${errorMsg}. To fix: Provide onPaymentRequest callback in SDK configuration.`);
            return {
                ...params,
                status: 'failed',
                hostappOrderId: '',
                error: 'Payment handler not configured'
            };
        }
        // Always log when calling onPaymentRequest callback
        console.log('[AppboxoWebSDK] Calling onPaymentRequest callback', params);
        // Call Desktop App's payment handler
        const result = await config.onPaymentRequest(params);
        // Always log payment result, even when debug is false
        console.log('[AppboxoWebSDK] Payment processed by Desktop App', result);
        config.log('Payment processed by Desktop App', result);
        // Merge original params with result to ensure all PaymentData fields are included
        // Response must match: PaymentData & { hostappOrderId: string; status: string }
        return {
            ...params, // Include all original PaymentData fields (amount, miniappOrderId, transactionToken, currency, extraParams)
            ...result, // Override with Desktop App's response (status, hostappOrderId, transactionId, error)
            // Ensure required fields are present
            status: result.status,
            hostappOrderId: result.hostappOrderId || '',
            transactionToken: result.transactionToken || params.transactionToken
        };
    }
    catch (error) {
        // Always log payment processing errors, even when debug is false
        console.error('[AppboxoWebSDK] Payment processing failed', error);
        config.log('Payment processing failed', error);
        return {
            ...params, // Include all original PaymentData fields
            status: 'failed',
            hostappOrderId: '',
            error: error?.message || 'Payment failed'
        };
    }
}
//# sourceMappingURL=paymentHelper.js.map