/**
 * Payment Handler
 * Handles payment events from miniapp
 */
import { EVENT_TYPES } from '../constants';
import { createHostResponse } from '../utils/messageHelpers';
import { processPayment } from '../utils/paymentHelper';
/**
 * Handle payment events
 *
 * Desktop SDK flow:
 * 1. Miniapp calls appboxo.pay()
 * 2. Receive payment event from miniapp
 * 3. Call Desktop App's onPaymentRequest callback
 * 4. Desktop App processes payment and returns result
 * 5. Return payment result to miniapp
 */
export async function handlePaymentEvent(params, requestId, config) {
    try {
        // Always log payment event handling, even when debug is false
        console.log('[AppboxoWebSDK] Handling payment event', params);
        config.log('Handling payment event', params);
        // Process payment through Desktop App callback
        const paymentConfig = {
            onPaymentRequest: config.config?.onPaymentRequest,
            log: config.log
        };
        const result = await processPayment(params, paymentConfig);
        // Send response to miniapp
        // Note: According to js-sdk promisifier, payment uses transactionToken as request_id
        // So we need to handle this specially
        const paymentRequestId = requestId || params.transactionToken;
        // Response must match js-sdk expected format: PaymentData & { hostappOrderId: string; status: string }
        // Include all original PaymentData fields plus hostappOrderId and status
        const response = createHostResponse(EVENT_TYPES.PAYMENT, {
            // Include all PaymentData fields from request
            amount: result.amount,
            miniappOrderId: result.miniappOrderId,
            transactionToken: result.transactionToken,
            currency: result.currency,
            ...(result.extraParams && { extraParams: result.extraParams }),
            // Add response fields
            status: result.status,
            hostappOrderId: result.hostappOrderId,
            ...(result.transactionId && { transactionId: result.transactionId }),
            ...(result.error && { error: result.error })
        }, paymentRequestId);
        config.sendResponseToMiniapp(response);
        // Always log when response is sent, even when debug is false
        console.log('[AppboxoWebSDK] Payment response sent to miniapp', result);
        config.log('Payment response sent to miniapp', result);
        // Call payment complete callback if registered
        const callback = config.lifecycleHandlers.get('payment-complete');
        if (callback) {
            callback(result.status === 'success', result);
        }
    }
    catch (error) {
        config.log('Payment failed', error);
        config.sendErrorResponse('AppBoxoWebAppPay', error, requestId);
    }
}
//# sourceMappingURL=paymentHandler.js.map